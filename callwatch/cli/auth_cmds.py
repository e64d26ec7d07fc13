"""``callwatch login | logout | auth status | info``: credentials and where they live.

Nothing here prints a secret: it is read straight into
:class:`~callwatch.api.signing.Secret`, and any diagnostic text is scrubbed of it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callwatch import __version__
from callwatch.api.brands import Brand, normalize_base_url
from callwatch.api.client import ApiClient, RetryPolicy, Timeouts
from callwatch.api.policy import check_transport
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials, TimeWindow, mask_key
from callwatch.cli.common import (
    EXIT_AUTH,
    EXIT_CODES_HELP,
    EXIT_OK,
    add_connection_args,
    guarded,
    print_error,
)
from callwatch.errors import (
    ApiError,
    AuthError,
    ConfigError,
    CredentialsError,
    IpDeniedError,
    TimestampError,
    TransportError,
    error_text,
)
from callwatch.store import logfile, paths, secrets
from callwatch.store.audit import audit_file
from callwatch.store.config import Config, Profile, check_profile_name, load_config, save_config
from callwatch.store.resolve import resolve_connection
from callwatch.store.state import ui_state_file

_SCRUB: list[Secret] = []  # secrets known to this run: removed from any diagnostic text


def _redact(text: str) -> str:
    for secret in _SCRUB:
        value = secret.reveal()
        if len(value) >= 4:
            text = text.replace(value, "********")
    return text


def _error(message: str) -> None:
    """Print a (possibly multi-line) message: each line made terminal-safe, secrets scrubbed."""
    print_error(_redact(message))


def _say(text: str) -> None:
    """One line on stdout: it quotes profiles, URLs and API text, so made terminal-safe."""
    from callwatch.cli.output import sanitize

    print(sanitize(_redact(text)))


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        _error(line)


def _log_debug(text: str) -> None:
    """--debug tracebacks also go to the log file (never through a symlink)."""
    refused = logfile.append_log(text)
    if refused:
        print_error(refused)


def _guarded(debug: bool, fn: Callable[[], int]) -> int:
    # Secrets read by this run are scrubbed; --debug tracebacks also go to the log file.
    return guarded(debug, fn, redact=_redact, internal_errors=True, debug_log=_log_debug)


# --- verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str
    exit_code: int


def _failed(kind: str, detail: str = "") -> Check:
    """A failed check in the words of the shared table (callwatch.errors.ERRORS)."""
    entry = error_text(kind)
    text = f"{entry.message} ({detail})" if detail else entry.message
    return Check(False, f"{text}: {entry.fix}" if entry.fix else text, entry.exit_code)


async def verify(brand: Brand, base_url: str, credentials: Credentials) -> Check:
    """One signed request (a 1-day task list, size 1), described in words."""
    client = ApiClient(credentials, brand, base_url,
                       timeouts=Timeouts(connect=5, read=10, write=5, pool=5),
                       retry=RetryPolicy(attempts=2, base_delay=0.3, deadline=15.0))
    async with client:
        try:
            page = await client.query(TimeWindow.last(days=1), size=1)
        except (AuthError, IpDeniedError) as exc:
            return _failed(exc.kind)
        except TimestampError as exc:
            return _failed(exc.kind, exc.message)
        except (TransportError, ApiError) as exc:
            return _failed(exc.kind, exc.message)
    if client.clock_offset:
        side = "behind" if client.clock_offset > 0 else "ahead of"
        return Check(True, f"ok, clock skew corrected: the local clock is "
                     f"{abs(client.clock_offset):.0f} s {side} the API's; callwatch "
                     "compensates, but fix the clock (NTP)", EXIT_OK)
    return Check(True, f"ok: signed request accepted ({page.total} task(s) in the last day)",
                 EXIT_OK)


# --- login ----------------------------------------------------------------------------


def _ask(prompt: str) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def _read_secret(tty: bool) -> Secret:
    if tty:
        secret = Secret(getpass.getpass("API secret (input hidden): ", stream=sys.stderr).strip())
    else:
        secret = Secret(sys.stdin.readline().strip())
    if not secret:
        raise ConfigError("no API secret given (empty input)")
    return secret


def _login_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callwatch login", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Verify credentials with one signed request and store them in a profile. "
                    "The secret is read with hidden input on a terminal, or as one line "
                    "from stdin otherwise; it goes to the OS keyring unless "
                    "--insecure-storage or --secret-command is given. Nothing is stored "
                    "when the check fails, unless --no-verify.",
        epilog=EXIT_CODES_HELP)
    p.add_argument("--profile", help="profile name (default: CALLWATCH_PROFILE, the default "
                                     "profile, or 'default')")
    p.add_argument("--brand", choices=[b.value for b in Brand],
                   help="the API's brand (default: the profile's; asked on a terminal; itnio)")
    p.add_argument("--base-url", help="scheme://host[:port] (default: the brand's host)")
    p.add_argument("--api-key", help="the API key (default: the profile's; asked on a terminal)")
    p.add_argument("--interval", type=float, help="refresh interval in seconds for the profile "
                                                  "(default: the profile's, else 5)")
    store = p.add_mutually_exclusive_group()
    store.add_argument("--insecure-storage", action="store_true",
                       help="store the secret in a plaintext 0600 file under the config dir "
                            "instead of the keyring")
    store.add_argument("--secret-command", metavar="CMD",
                       help="do not store the secret; run CMD (no shell) to get it each time "
                            "(default: store it in the keyring)")
    p.add_argument("--allow-insecure-http", action="store_true",
                   help="accept a plain http:// base URL to a host other than this machine "
                        "and save that choice in the profile (the API key and signatures "
                        "then travel unencrypted)")
    p.add_argument("--allow-actions", action="store_true",
                   help="allow cancel/suspend for this profile (saves actions = true; "
                        "default: keep the profile's, else read-only)")
    p.add_argument("--no-verify", action="store_true",
                   help="store even if the check request fails or the API is unreachable")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return p


def _store_secret(name: str, args: argparse.Namespace, secret: Secret,
                  old: Profile | None) -> tuple[str, str]:
    """Put the secret where asked; return (secret_store, words for where it went)."""
    if args.secret_command:
        where, store = f"not stored: the command {args.secret_command!r} gives it", "command"
    elif args.insecure_storage:
        path = secrets.write_secret_file(name, secret)
        _warn([secrets.insecure_warning(path)])
        where, store = f"plaintext file {path}", "file"
    else:
        where, store = f"keyring ({secrets.keyring_set(name, secret)})", "keyring"
    if store != "file":
        secrets.delete_secret_file(name)
    if store != "keyring" and old is not None and old.secret_store == "keyring":
        try:
            secrets.keyring_delete(name)
        except CredentialsError as exc:
            _warn([f"could not remove the old keyring entry: {exc.message.splitlines()[0]}"])
    return store, where


def _do_login(args: argparse.Namespace) -> int:
    cfg = load_config()
    _warn(cfg.warnings)
    name = check_profile_name(args.profile or os.environ.get("CALLWATCH_PROFILE")
                              or cfg.default_profile or "default")
    old = cfg.profile(name)
    tty = sys.stdin.isatty()
    brand_text = args.brand or (old.brand if old else None)
    if not brand_text and tty:
        brand_text = _ask("brand (itnio, onbuka, laaffic) [itnio]: ")
    brand = Brand.parse(brand_text or "itnio")
    url = args.base_url or (old.base_url if old and old.brand == brand.value else None)
    base_url = normalize_base_url(url or brand.default_base_url)
    # Refused before the secret is asked for: such a profile is never saved unless opted in.
    allow_http = bool(args.allow_insecure_http or (old and old.allow_insecure_http
                                                   and old.base_url == base_url))
    insecure = check_transport(base_url, allow_http)
    if insecure:
        _warn([insecure])
    api_key = args.api_key or (old.api_key if old else None)
    if not api_key and tty:
        api_key = _ask("API key: ")
    if not api_key:
        raise ConfigError("no API key: pass --api-key (stdin is not a terminal to ask)")
    if args.secret_command:
        secret = secrets.run_secret_command(args.secret_command, name)
    else:
        secret = _read_secret(tty)
    _SCRUB.append(secret)
    if args.no_verify:
        _say("not verified (--no-verify)")
    else:
        check = asyncio.run(verify(brand, base_url, Credentials(api_key, secret)))
        _say(f"check: {check.text}")
        if not check.ok:
            print_error(f"nothing saved for profile {name!r}; fix the problem above, or pass "
                        "--no-verify to save anyway")
            return check.exit_code
    store, where = _store_secret(name, args, secret, old)
    profile = Profile(
        name=name, brand=brand.value,
        base_url=None if base_url == brand.default_base_url else base_url,
        api_key=api_key, interval=args.interval or (old.interval if old else None),
        secret_store=store, secret_command=args.secret_command,
        allow_insecure_http=insecure is not None,
        actions=bool(args.allow_actions or (old and old.actions)),
    )
    new_cfg = cfg.with_profile(profile)
    path = save_config(new_cfg)
    _say(f"saved profile {name!r} ({brand.value}, {base_url}, key {mask_key(api_key)}) "
          f"to {path}")
    _say(f"secret: {where}")
    if new_cfg.default_profile == name:
        _say(f"{name!r} is the default profile")
    return EXIT_OK


# --- logout ---------------------------------------------------------------------------


def _logout_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callwatch logout",
                                description="Remove a profile's stored secret.",
                                epilog=EXIT_CODES_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", help="profile name (default: CALLWATCH_PROFILE, else the "
                                     "default profile)")
    p.add_argument("--forget", action="store_true",
                   help="also remove the profile from config.toml")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return p


def _do_logout(args: argparse.Namespace) -> int:
    cfg = load_config()
    _warn(cfg.warnings)
    name = args.profile or os.environ.get("CALLWATCH_PROFILE") or cfg.default_profile
    if not name:
        raise ConfigError("no profile to log out of (none is configured)")
    name = check_profile_name(name)
    prof = cfg.profile(name)
    code, removed = EXIT_OK, []
    if prof is None or prof.secret_store == "keyring":
        try:
            if secrets.keyring_delete(name):
                removed.append("keyring entry")
        except CredentialsError as exc:
            _error(exc.message)
            code = EXIT_AUTH
    if secrets.delete_secret_file(name):
        removed.append(f"file {secrets.secret_file(name)}")
    _say(f"profile {name!r}: removed " + (", ".join(removed) if removed else "nothing "
                                            "(no stored secret found)"))
    if prof is not None and prof.secret_command:
        _say("note: its secret_command stays in config.toml (use --forget to drop the profile)")
    if args.forget:
        if prof is None:
            _say(f"profile {name!r} is not in config.toml")
        else:
            save_config(cfg.without_profile(name))
            _say(f"removed profile {name!r} from {cfg.path}")
    return code


# --- auth status, info ----------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    conn = resolve_connection(args.profile, args.brand, args.base_url,
                              allow_insecure_http=args.allow_insecure_http)
    _SCRUB.append(conn.credentials.secret)
    _warn(conn.warnings)
    _say(f"profile:  {conn.profile or '(none: environment only)'}")
    _say(f"brand:    {conn.brand.value}")
    _say(f"base URL: {conn.base_url}")
    _say(f"API key:  {mask_key(conn.credentials.api_key)}")
    _say(f"secret:   from {conn.secret_source}")
    check = asyncio.run(verify(conn.brand, conn.base_url, conn.credentials))
    _say(f"check:    {check.text}")
    return check.exit_code


def _info() -> int:
    cfg: Config = load_config()
    _warn(cfg.warnings)
    _say(f"callwatch {__version__}")
    _say(f"config file: {paths.config_file()}")
    _say(f"state dir:   {paths.state_dir()}")
    # The monitor's header says "env" then; say which file its watch list goes to.
    env_file = ui_state_file(None).relative_to(paths.state_dir())
    _say(f"watch lists: profiles/<profile>.json in the state dir; environment credentials "
          f"('env' in the monitor's header): {env_file}")
    _say(f"log dir:     {paths.log_dir()}")
    _say(f"audit log:   {audit_file()} (every cancel/suspend)")
    _say(f"keyring:     {secrets.describe_backend()}")
    names = cfg.profile_names()
    listing = ", ".join(names) if names else "none (run `callwatch login`)"
    _say(f"profiles:    {listing}" + (f" (default: {cfg.default_profile})"
                                       if cfg.default_profile else ""))
    return EXIT_OK


def run(name: str, argv: Sequence[str]) -> int:
    if name == "login":
        args = _login_parser().parse_args(argv)
        return _guarded(args.debug, lambda: _do_login(args))
    if name == "logout":
        args = _logout_parser().parse_args(argv)
        return _guarded(args.debug, lambda: _do_logout(args))
    if name == "auth":
        args = auth_parser().parse_args(argv)
        return _guarded(args.debug, lambda: _status(args))
    args = info_parser().parse_args(argv)
    return _guarded(args.debug, _info)


def auth_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callwatch auth", epilog=EXIT_CODES_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="action", required=True)
    st = sub.add_parser("status", help="where the credentials come from and if they work")
    add_connection_args(st)
    return p


def info_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callwatch info",
                                description="Version, file paths, keyring backend.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return p
