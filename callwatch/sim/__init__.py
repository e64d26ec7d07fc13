"""A faithful simulator of the voice group-call API (part of the product).

``callwatch sim`` serves it on loopback with uvicorn; ``callwatch --demo`` runs it so
in a child process (``callwatch.sim.demo``); the tests also serve it in-process,
without sockets, through httpx's ASGI transport (``callwatch.sim.transport``).
"""
