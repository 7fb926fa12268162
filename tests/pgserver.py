"""A throw-away PostgreSQL server for the gradebook tests, started on 127.0.0.1 by the test session (tests/conftest.py: pg_server).

Locally without PostgreSQL's server programs the tests that need it skip with the reason; in CI (CI=true, where
.ci/run installs Debian's postgresql) they must run, so a missing server is a failure there.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self):
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed "
                               "(apt-get install postgresql)")
        self.pg_ctl = pg_ctl
        self.dir = tempfile.mkdtemp(prefix="mesosim-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own account
            runuser = shutil.which("runuser")
            import pwd

            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user to run the server") from None
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.prefix = [runuser, "-u", "postgres", "--"]
        self._run([initdb, "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        self._run([pg_ctl, "-D", self.data, "-w", "-t", "30", "-l", os.path.join(self.dir, "log"), "-o",
                   f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F", "start"])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, cmd: list[str]) -> None:
        r = subprocess.run(self.prefix + cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:1])} failed: {r.stderr.strip() or r.stdout.strip()}")

    def fresh_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(self.prefix + [self.pg_ctl, "-D", self.data, "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)
        time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)
