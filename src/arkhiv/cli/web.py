"""The search page: `arkhiv serve`, and its users and tokens (`passwd`, `token`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from arkhiv.cli.common import (
    EXIT_CODES,
    ArchiveOpt,
    ConfigOpt,
    RestrictedOpt,
    UsersFileArg,
    VerboseOpt,
    app,
    err,
    handle_errors,
    out,
    settings_for,
)
from arkhiv.errors import UsageError


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv serve --archive ./archive   (http://127.0.0.1:8080, this computer only)\n\n"
    "  arkhiv serve --archive ./archive --host 0.0.0.0 --port 8080 --auth users.toml\n\n"
    "Read-only. Documents marked access: restricted are shown only to users of --auth whose\n"
    "entry allows it (see `arkhiv passwd`). The JSON API is under /api/ (OpenAPI:\n"
    "/api/openapi.json).\n\n" + EXIT_CODES
)
@handle_errors
def serve(
    archive: ArchiveOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for the whole network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8080,
    auth_file: Annotated[
        Path | None,
        typer.Option("--auth", help="Users file (arkhiv passwd) for restricted documents."),
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Serve the search page for clerks on the local network (Ukrainian, with an English switch)."""
    import uvicorn

    from arkhiv.web.app import create_app
    from arkhiv.web.auth import UsersFile

    settings = settings_for(config, archive)
    users = UsersFile.load(auth_file) if auth_file is not None else None
    web = create_app(settings.archive, users=users, style=settings.metadata.citation_style)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    err.print(
        escape(f"arkhiv: serving {settings.archive} on http://{shown}:{port}/ (Ctrl-C stops)")
    )
    if host not in ("127.0.0.1", "::1", "localhost") and users is None:
        err.print("  note: open to the network without --auth; restricted documents stay hidden")
    uvicorn.run(web, host=host, port=port, log_level="info" if verbose else "warning")


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv passwd users.toml olena --restricted   (asks for the password twice)\n\n"
    "  arkhiv passwd users.toml olena --remove\n\n" + EXIT_CODES
)
@handle_errors
def passwd(
    users_file: UsersFileArg,
    name: Annotated[str, typer.Argument(help="User name.")],
    restricted: RestrictedOpt = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove this user.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Add a user to the users file, change a password, or remove a user (stored hashed)."""
    from arkhiv.web import auth

    if remove:
        if not auth.remove(users_file, name):
            raise UsageError(f"{users_file}: no user or token named {name!r}")
        out.print(escape(f"removed {name}"))
        return
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        auth.set_password(users_file, name, password, restricted)
    except ValueError as e:
        raise UsageError(str(e)) from e
    out.print(
        escape(
            f"{users_file}: {name} saved"
            + (" (may see restricted documents)" if restricted else "")
        )
    )


@app.command(
    epilog="Examples:\n\n  arkhiv token users.toml reading-room --restricted\n\n"
    '  curl -H "Authorization: Bearer TOKEN" http://host:8080/api/search?q=наказ\n\n' + EXIT_CODES
)
@handle_errors
def token(
    users_file: UsersFileArg,
    name: Annotated[str, typer.Argument(help="A name for the token (who or what uses it).")],
    restricted: RestrictedOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Make an API token for scripts; it is printed once and stored only as its hash."""
    from arkhiv.web import auth

    try:
        value = auth.new_token(users_file, name, restricted)
    except ValueError as e:
        raise UsageError(str(e)) from e
    out.print(value, markup=False)
