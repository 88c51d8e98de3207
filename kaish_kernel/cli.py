"""The `kaish` command: run a script (-c, a file, stdin) or a small REPL.

    kaish -c 'SCRIPT' [ARGS...]     $1.. are ARGS
    kaish FILE [ARGS...]            $0 is FILE
    kaish < script.kai              a script on stdin (not a terminal)
    kaish                           the REPL, on a terminal
    kaish install [--user|--sys-prefix|--prefix P]   the Jupyter kernelspec
    kaish tour [--output PATH]      execute the tour notebook in the kaish kernel

The exit status is the script's. Output goes straight to fd 1 and fd 2 (an
external command at the end of a pipeline writes to them directly). Jupyter
is never imported on this path, so `kaish -c true` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

USAGE = """usage: kaish [-c SCRIPT | FILE | -] [ARGS...]
       kaish install [--user | --sys-prefix | --prefix PREFIX]
       kaish tour [--output PATH]

  -c SCRIPT   run SCRIPT; ARGS become $1, $2, ...
  FILE        run the kaish script in FILE
  (nothing)   read a script from stdin, or start the REPL on a terminal
"""


def _make_shell(script_name: str, args: list[str], *, interactive: bool = False):  # type: ignore[no-untyped-def]
    from kaish_kernel.shell import Shell

    return Shell(env=dict(os.environ), script_name=script_name, args=list(args), interactive=interactive)


async def _run_source(source: str, script_name: str, args: list[str]) -> int:
    import asyncio
    import signal

    from kaish_kernel.scheduler.stage import FdInput, FdOutput
    from kaish_kernel.scheduler.stderr_stream import FdErrorSink

    shell = _make_shell(script_name, args)
    stdout = FdOutput(1, owned=False)
    stderr = FdErrorSink(2)
    stdin = FdInput(0, owned=False)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupted = 0

    def on_signal(signum: int) -> None:
        nonlocal interrupted
        interrupted = signum
        task.cancel()

    # Ctrl-C, and a TERM or HUP sent to kaish itself: stop the foreground work,
    # then close the Shell, which kills every background job's process group.
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for signum in handled:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        result = await shell.execute(source, stdout=stdout, stderr=stderr, stdin=stdin)
        code = result.code
    except asyncio.CancelledError:
        if not interrupted:
            raise
        code = 128 + interrupted
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await shell.close()
    return code


async def _repl() -> int:
    import asyncio
    import signal

    from kaish_kernel.lang.parser import is_complete
    from kaish_kernel.scheduler.stage import FdInput, FdOutput
    from kaish_kernel.scheduler.stderr_stream import FdErrorSink

    try:
        import readline  # noqa: F401 - line editing and history for input()
    except ImportError:
        pass
    shell = _make_shell("kaish", [], interactive=True)
    loop = asyncio.get_running_loop()
    stdout = FdOutput(1, owned=False)
    stderr = FdErrorSink(2)
    code = 0
    print("kaish (Python) — `help` for builtins, Ctrl-D to leave.", file=sys.stderr)
    try:
        while True:
            reap = getattr(shell.jobs, "reap_notices", None)
            if reap is not None:
                for notice in reap():
                    sys.stderr.write(notice)
            try:
                lines = [await loop.run_in_executor(None, input, "kaish> ")]
                while is_complete("\n".join(lines))[0] == "incomplete":
                    lines.append(await loop.run_in_executor(None, input, "....> "))
            except EOFError:
                sys.stderr.write("\n")
                break
            except KeyboardInterrupt:
                sys.stderr.write("\n")
                continue
            task = loop.create_task(
                shell.execute("\n".join(lines), stdout=stdout, stderr=stderr, stdin=FdInput(0, owned=False))
            )
            loop.add_signal_handler(signal.SIGINT, task.cancel)
            try:
                code = (await task).code
            except asyncio.CancelledError:
                sys.stderr.write("^C\n")
                code = 130
            finally:
                loop.remove_signal_handler(signal.SIGINT)
    finally:
        await shell.close()
    return code


def _prepare_program_imports() -> None:
    """Start-up for the `kaish` program (not for a library caller).

    - Bytecode: with PYTHONDONTWRITEBYTECODE set (some CI and sandboxes set
      it), nothing would ever cache the package's bytecode, and every run
      would compile it from source again: start-up several times slower. The
      program writes bytecode anyway (into the package's own `__pycache__`;
      stdlib and installed packages ship theirs). `KAISH_NO_BYTECODE=1` keeps
      the interpreter's setting.
    - TLS: asyncio imports `ssl` (and with it libssl) on the chance a
      connection needs it; the shell never opens one, so asyncio is imported
      with `ssl` hidden. asyncio then treats TLS as unavailable in this
      process; any other code can still `import ssl` afterwards.
    """
    if sys.dont_write_bytecode and not os.environ.get("KAISH_NO_BYTECODE"):
        sys.dont_write_bytecode = False
    if "asyncio" not in sys.modules and "ssl" not in sys.modules:
        sys.modules["ssl"] = None  # type: ignore[assignment]  # `import ssl` raises ImportError
        try:
            import asyncio  # noqa: F401
        finally:
            if sys.modules.get("ssl", 0) is None:
                del sys.modules["ssl"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point. When run as the `kaish` program, exit without waiting for
    helper threads: a thread blocked reading a terminal must not hold the exit."""
    if argv is None:
        _prepare_program_imports()
    code = _main(argv)
    if argv is None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code & 0xFF)  # `exit 300` is status 44, as the OS would make it
    return code


def _main(argv: Sequence[str] | None = None) -> int:
    import asyncio

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "install":
        from kaish_kernel.jupyter.install import main as install_main

        return install_main(args[1:])
    if args and args[0] == "tour":
        from kaish_kernel.jupyter.tour import main as tour_main

        return tour_main(args[1:])
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if args and args[0] == "-c":
        if len(args) < 2:
            sys.stderr.write("kaish: -c requires a script\n" + USAGE)
            return 2
        return asyncio.run(_run_source(args[1], "kaish", args[2:]))
    if args and args[0] != "-":
        path = args[0]
        try:
            with open(path, encoding="utf-8") as fh:
                source = fh.read()
        except OSError as exc:
            sys.stderr.write(f"kaish: {path}: {exc.strerror}\n")
            return 127 if isinstance(exc, FileNotFoundError) else 126
        except UnicodeDecodeError:
            sys.stderr.write(f"kaish: {path}: not a UTF-8 text file\n")
            return 126
        return asyncio.run(_run_source(source, path, args[1:]))
    if sys.stdin.isatty() and not args:
        return asyncio.run(_repl())
    source = sys.stdin.read()
    return asyncio.run(_run_source(source, "kaish", args[1:]))


if __name__ == "__main__":
    raise SystemExit(main())
