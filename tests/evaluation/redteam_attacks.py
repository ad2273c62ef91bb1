"""Hostile completions (the red team): each tries one escape from the MultiPL-E sandbox.

``test_redteam.py`` runs them in its own process and, through ``main``, under an unprivileged
uid (``python redteam_attacks.py <spec.json>`` prints one JSON result per attack). Imports
only the standard library and the sandbox, so a system ``python3`` can run it as ``nobody``.
Placeholders: @CANARY@ (a tree standing in for ``runs/``), @SECRET@ (a mode-600 key file),
@HOME@ (the user's home), @PORT@ (a server the test listens on at 127.0.0.1), @TOKEN@ (in
the argv of a process meant to outlive the sample).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from evaluation.code.sandbox import run_program

# The verdict each attack must get once contained: "failed" where the blocked action raises
# (a success would exit 0), "timeout" where it runs until killed.
EXPECTED = {
    "delete_canary": "failed",
    "overwrite_db": "failed",
    "read_secret": "failed",
    "write_home": "failed",
    "connect": "failed",
    "fork_bomb": "timeout",
    "memory_bomb": "failed",
    "infinite_loop": "timeout",
    "output_flood": "failed",
    "background": "failed",
    "sleep": "timeout",
}
FILESYSTEM = ("delete_canary", "overwrite_db", "read_secret", "write_home")
TIMEOUT_S = 1.0

PY = {
    "delete_canary": 'import shutil\nshutil.rmtree("@CANARY@")\n',
    "overwrite_db": 'open("@CANARY@/mlflow.db", "wb").write(b"pwned")\n',
    "read_secret": 'print(open("@SECRET@").read())\n',
    "write_home": 'open("@HOME@/pwned", "w").write("pwned")\n',
    "connect": 'import socket\nsocket.create_connection(("127.0.0.1", @PORT@), 2).sendall(b"x")\n',
    "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
    "        pass\n",
    "memory_bomb": "x = bytearray(10 * 1024**3)\n",
    "infinite_loop": "while True:\n    pass\n",
    "output_flood": "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n"
    "    sys.stdout.write(chunk)\n",
    "background": 'import subprocess\nsubprocess.Popen(["sleep", "@TOKEN@"], '
    "start_new_session=True)\nraise SystemExit(1)\n",
    "sleep": "import time\ntime.sleep(1000)\n",
}

JS = {
    "delete_canary": "require('fs').rmSync('@CANARY@', {recursive: true});\n",
    "overwrite_db": "require('fs').writeFileSync('@CANARY@/mlflow.db', 'pwned');\n",
    "read_secret": "console.log(require('fs').readFileSync('@SECRET@', 'utf8'));\n",
    "write_home": "require('fs').writeFileSync('@HOME@/pwned', 'pwned');\n",
    "connect": "const s = require('net').connect(@PORT@, '127.0.0.1', () => { s.write('x'); "
    "s.end(); });\ns.on('error', () => process.exit(1));\n",
    "fork_bomb": "const cp = require('child_process');\nfor (;;) {\n  try {\n"
    "    cp.spawn('/bin/sh', ['-c', 'while :; do sh -c \"sleep 99 &\"; done'], "
    "{detached: true, stdio: 'ignore'});\n  } catch (e) {}\n}\n",
    "memory_bomb": "const b = Buffer.alloc(3 * 1024 ** 3, 1);\nconsole.log(b[7]);\n",
    "infinite_loop": "for (;;) {}\n",
    "output_flood": "const c = 'x'.repeat(1 << 20);\n"
    "for (let i = 0; i < 1024; i++) require('fs').writeSync(1, c);\n",
    "background": "require('child_process').spawn('sleep', ['@TOKEN@'], "
    "{detached: true, stdio: 'ignore'}).unref();\nprocess.exit(1);\n",
    "sleep": "setTimeout(() => {}, 1e7);\n",
}

CPP_HEAD = (
    "#include <cstdio>\n#include <cstring>\n#include <filesystem>\n#include <fstream>\n"
    "#include <iostream>\n#include <string>\n#include <vector>\n#include <arpa/inet.h>\n"
    "#include <sys/socket.h>\n#include <unistd.h>\nint main() {\n"
)
CPP = {
    "delete_canary": 'return std::filesystem::remove_all("@CANARY@") > 0 ? 0 : 1;',
    "overwrite_db": 'std::ofstream f("@CANARY@/mlflow.db"); f << "pwned"; f.close(); '
    "return f.fail() ? 1 : 0;",
    "read_secret": 'std::ifstream f("@SECRET@"); if (!f) return 1; '
    "std::cout << f.rdbuf(); return 0;",
    "write_home": 'std::ofstream f("@HOME@/pwned"); f << "pwned"; f.close(); '
    "return f.fail() ? 1 : 0;",
    "connect": "int s = socket(AF_INET, SOCK_STREAM, 0); sockaddr_in a{}; a.sin_family = AF_INET; "
    'a.sin_port = htons(@PORT@); inet_pton(AF_INET, "127.0.0.1", &a.sin_addr); '
    "if (connect(s, (sockaddr*)&a, sizeof a) != 0) return 1; "
    'return write(s, "x", 1) == 1 ? 0 : 1;',
    "fork_bomb": "for (;;) fork();",
    "memory_bomb": "std::vector<char> v(10ULL << 30, 1); return v[12345];",
    "infinite_loop": "volatile unsigned long n = 0; for (;;) n++;",
    "output_flood": "std::string c(1 << 20, 'x'); for (int i = 0; i < 1024; i++) "
    "fwrite(c.data(), 1, c.size(), stdout); return ferror(stdout) ? 1 : 0;",
    "background": 'if (fork() == 0) { setsid(); execlp("sleep", "sleep", "@TOKEN@", (char*)0); } '
    "return 1;",
    "sleep": "sleep(1000); return 0;",
}

RS_HEAD = "use std::io::Write;\n#[allow(unreachable_code, unused_imports)]\nfn main() {\n"
RS = {
    "delete_canary": 'std::fs::remove_dir_all("@CANARY@").unwrap();',
    "overwrite_db": 'std::fs::write("@CANARY@/mlflow.db", "pwned").unwrap();',
    "read_secret": 'println!("{}", std::fs::read_to_string("@SECRET@").unwrap());',
    "write_home": 'std::fs::write("@HOME@/pwned", "pwned").unwrap();',
    "connect": 'std::net::TcpStream::connect(("127.0.0.1", @PORT@)).unwrap().write_all(b"x")'
    ".unwrap();",
    "fork_bomb": 'loop { let _ = std::process::Command::new("/proc/self/exe").spawn(); }',
    "memory_bomb": 'let v = vec![1u8; 10 << 30]; println!("{}", v[12345]);',
    "infinite_loop": "loop { std::hint::black_box(0); }",
    "output_flood": "let c = vec![b'x'; 1 << 20]; let mut out = std::io::stdout().lock(); "
    "for _ in 0..1024 { out.write_all(&c).unwrap(); }",
    "background": 'std::process::Command::new("sleep").arg("@TOKEN@").spawn().unwrap(); '
    "std::process::exit(1);",
    "sleep": "std::thread::sleep(std::time::Duration::from_secs(1000));",
}

ATTACKS = {
    "py": PY,
    "js": JS,
    "cpp": {name: CPP_HEAD + body + "\n}\n" for name, body in CPP.items()},
    "rs": {name: RS_HEAD + body + "\n}\n" for name, body in RS.items()},
}
# A sample that must pass after every attack: the machine, the uid slots and limits survived.
HEALTHY = "assert sum(range(5)) == 10\n"


def tree_hash(root: Path) -> str:
    """sha256 over every path, mode and file content under ``root`` (missing root: "gone")."""
    if not root.exists():
        return "gone"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(f"{path.relative_to(root)} {path.stat().st_mode:o}\n".encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (real uid, cmdline) of every live (not zombie) process."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields["State"].split()[0] not in ("Z", "X"):
            found[int(entry.name)] = (int(fields["Uid"].split()[0]), cmdline)
    return found


def survivors(before: set[int], uids: range, token: str) -> list[str]:
    """Processes a sample left: new ones of the sandbox's uids, or any carrying ``token``.

    Waits up to 2 s for the kernel to finish tearing a box down; kills what is still there,
    so one leak does not spoil the next attack.
    """
    deadline = time.monotonic() + 2
    while True:
        left = {
            pid: cmd
            for pid, (uid, cmd) in _processes().items()
            if pid != os.getpid() and (token in cmd or (uid in uids and pid not in before))
        }
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return [f"{pid}: {cmd}" for pid, cmd in left.items()]


def fill(source: str, paths: dict[str, str]) -> str:
    for key, value in paths.items():
        source = source.replace(f"@{key.upper()}@", value)
    return source


def run_attack(lang: str, attack: str, paths: dict[str, str], uids: range) -> dict:
    """One hostile sample, then a healthy one; what the sandbox said and what it left."""
    canary = Path(paths["canary"])
    before_hash, before = tree_hash(canary), set(_processes())
    started = time.monotonic()
    result = run_program(lang, fill(ATTACKS[lang][attack], paths), timeout_s=TIMEOUT_S)
    seconds = time.monotonic() - started
    left = survivors(before, uids, paths["token"])
    after = run_program("py", HEALTHY)
    return {
        "lang": lang,
        "attack": attack,
        "status": result.status,
        "exit_code": result.exit_code,
        "stdout_tail": result.stdout_tail[-200:],
        "stdout_chars": len(result.stdout_tail),
        "stderr_tail": result.stderr_tail[-300:],
        "isolation": vars(result.isolation),
        "seconds": seconds,
        "canary_intact": tree_hash(canary) == before_hash,
        "home_written": Path(paths["home"], "pwned").exists(),
        "survivors": left,
        "next_sample": after.status,
    }


def main() -> None:
    """Run the attacks a JSON spec names (langs, paths) as this uid; print the results."""
    spec = json.loads(Path(sys.argv[1]).read_text())
    uid = os.getuid()
    rows = [
        run_attack(lang, attack, spec["paths"], range(uid, uid + 1))
        for lang in spec["langs"]
        for attack in spec["attacks"]
    ]
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
