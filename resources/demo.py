"""Demo: a local terminal, the target's own python3, values and proxies."""

from RemoteProxyLibrary import BashShell, InteractiveSession
from RemoteProxyLibrary.runnerterminal import RunnerTerminal


def main() -> None:
    session = InteractiveSession()
    session.spawn(BashShell())
    print("shell says:", session.current_shell().exec_command("echo hello from $0").strip())
    runner = RunnerTerminal()
    runner.initialize(session)
    print("1 + 1 =", runner.run_python("1 + 1"))
    runner.import_libraries("os", "subprocess")
    print("remote pid:", runner.run_python("os.getpid()"))
    os_proxy = runner.get_recursive_proxy("os")
    print("os.path.join('a', 'b') =", os_proxy.path.join("a", "b"))
    popen = runner.get_proxy_object_from_call(
        "subprocess.Popen", ["uname", "-a"], stdout=runner.run_python("subprocess.PIPE")
    )
    print("proxy:", popen)
    out, _ = popen.communicate()
    print("uname -a on the target:", out.decode().strip())
    print("round trips so far:", runner.round_trips)
    runner.close()
    session.close_terminal()
    print("closed; demo done")


if __name__ == "__main__":
    main()
