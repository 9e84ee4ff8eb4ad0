"""A distcc build farm for tests: real distccd daemons as build hosts, each in
a network namespace of its own, reachable only from a client namespace.

    with Farm(hosts=2) as farm:
        farm.run(["krefactor", "compile-test", "--cc", "distcc gcc", ...])

run() sets DISTCC_HOSTS to the farm's hosts.

The client namespace has one veth link to each host's namespace (10.91.N.1
on the client's side, 10.91.N.2 on the host's); each distccd listens on its
own address only and `--allow`s the client's address only. Nothing is
started outside these namespaces, and all of them are deleted on exit
(killing what runs in them). Needs root (ip netns) and distcc installed.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

PORT = 3632


def usable() -> str | None:
    """Why a farm cannot be started here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "distcc", "distccd"):
        if not shutil.which(tool):
            return f"{tool} is not installed (scripts/setup.sh installs it)"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class Farm:
    def __init__(self, hosts: int = 2, jobs: int = 2):
        tag = f"{os.getpid() % 100000}"
        self.client = f"krc{tag}"
        self.names = [f"krh{tag}-{n}" for n in range(1, hosts + 1)]
        self.addrs = [f"10.91.{n}.2" for n in range(1, hosts + 1)]
        self.jobs = jobs
        # The daemons run as the user nobody: their logs go to a directory of
        # the farm's own that every user can write (pytest's tmp_path is
        # root's only, and there they logged nothing).
        self.logdir = Path(tempfile.mkdtemp(prefix="krefactor-farm-"))
        self.logdir.chmod(0o777)
        self.logs = [self.logdir / f"distccd-{n}.log" for n in range(1, hosts + 1)]
        self.daemons: list[subprocess.Popen[bytes]] = []

    @property
    def hosts(self) -> str:
        """DISTCC_HOSTS for the client: every host, with its job count."""
        return " ".join(f"{a}/{self.jobs}" for a in self.addrs)

    def __enter__(self) -> Farm:
        try:
            _ip("netns", "add", self.client)
            _ip("-n", self.client, "link", "set", "lo", "up")
            for n, (name, addr, log) in enumerate(zip(self.names, self.addrs, self.logs), 1):
                mine = f"10.91.{n}.1"
                _ip("netns", "add", name)
                _ip("-n", name, "link", "set", "lo", "up")
                _ip("-n", self.client, "link", "add", f"kc{n}", "type", "veth",
                    "peer", "name", f"kh{n}", "netns", name)
                _ip("-n", self.client, "addr", "add", f"{mine}/24", "dev", f"kc{n}")
                _ip("-n", self.client, "link", "set", f"kc{n}", "up")
                _ip("-n", name, "addr", "add", f"{addr}/24", "dev", f"kh{n}")
                _ip("-n", name, "link", "set", f"kh{n}", "up")
                log.touch()
                log.chmod(0o666)
                self.daemons.append(subprocess.Popen(
                    ["ip", "netns", "exec", name, "distccd", "--no-detach", "--daemon",
                     "--user", "nobody", "--listen", addr, "--allow", mine,
                     "--jobs", str(self.jobs), "--log-level", "info",
                     "--log-file", str(log)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True))
            self._wait_listening()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_listening(self) -> None:
        for name, addr in zip(self.names, self.addrs):
            for _ in range(100):
                out = subprocess.run(["ip", "netns", "exec", name, "ss", "-Hltn",
                                      f"sport = :{PORT}"], capture_output=True, text=True)
                if addr in out.stdout:
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError(f"distccd in {name} is not listening on {addr}:{PORT}")

    def run(self, cmd: list[str], env: dict[str, str] | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """`cmd` in the client namespace, DISTCC_HOSTS naming the hosts."""
        full = {**os.environ, "DISTCC_HOSTS": self.hosts, **(env or {})}
        return subprocess.run(["ip", "netns", "exec", self.client, *cmd], env=full,
                              capture_output=True, text=True, timeout=timeout)

    def compiled(self) -> list[int]:
        """Per host, the compilations its distccd logged as done."""
        return [log.read_text(errors="replace").count("COMPILE_OK") for log in self.logs]

    def job_seconds(self) -> float:
        """The hosts' compile time, summed over the jobs their logs record
        (`time:NNNms`): what the farm took off the client."""
        total = 0
        for log in self.logs:
            for word in log.read_text(errors="replace").split():
                if word.startswith("time:") and word.endswith("ms") and word[5:-2].isdigit():
                    total += int(word[5:-2])
        return total / 1000

    def __exit__(self, *exc: object) -> None:
        for d in self.daemons:
            try:
                os.killpg(d.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for d in self.daemons:
            try:
                d.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(d.pid, signal.SIGKILL)
                d.wait()
        for name in [*self.names, self.client]:
            # Deleting a namespace drops its veth ends (and their peers).
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        shutil.rmtree(self.logdir, ignore_errors=True)
