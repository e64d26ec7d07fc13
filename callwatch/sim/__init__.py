"""A faithful simulator of the voice group-call API (part of the product).

``callwatch --demo`` runs it in-process through httpx's ASGI transport;
``callwatch sim`` serves it on loopback with uvicorn.
"""
