"""The `attune` command as a user runs it: real subprocesses, real signals."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ConfigWriter

ROOT = Path(__file__).resolve().parents[1]


def attune(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_migrate_applies_then_reports_up_to_date(write_config: ConfigWriter) -> None:
    config = write_config()
    first = attune("migrate", "--config", str(config))
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert "applied 0001_init.sql" in out
    second = attune("migrate", "--config", str(config))
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0
    assert "nothing to apply" in out


def test_scripted_chat_prints_one_json_object_per_turn(
    write_config: ConfigWriter, tmp_path: Path
) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text(
        '{"user": "a", "text": "hello"}\nnot json\n{"user": "b", "text": "hi there"}\n'
    )
    run = attune("chat", "--config", str(write_config()), "--script", str(script), "--json")
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    turns = [json.loads(line) for line in out.splitlines()]
    assert [t["user"] for t in turns] == ["a", "b"]
    assert "line 2: not valid JSON" in err


def test_sigterm_mid_script_exits_0_and_keeps_what_was_answered(
    write_config: ConfigWriter, tmp_path: Path
) -> None:
    fifo = tmp_path / "script.fifo"
    os.mkfifo(fifo)
    config = write_config()
    run = attune("chat", "--config", str(config), "--script", str(fifo), "--json")
    assert run.stdout is not None
    with fifo.open("w") as feed:
        for i in range(3):
            feed.write(json.dumps({"user": "z", "text": f"turn {i}"}) + "\n")
            feed.flush()
            json.loads(run.stdout.readline())  # wait until this turn was answered
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    with sqlite3.connect(tmp_path / "data" / "attune.db") as db:
        texts = [
            r[0] for r in db.execute("SELECT text FROM messages WHERE role = 'user' ORDER BY id")
        ]
        assert texts == ["turn 0", "turn 1", "turn 2"]
        assert db.execute("SELECT COUNT(*) FROM interactions").fetchone()[0] == 3


def test_run_stops_cleanly_on_sigterm(write_config: ConfigWriter) -> None:
    run = attune("--log-level", "INFO", "run", "--config", str(write_config()))
    assert run.stderr is not None
    for line in run.stderr:
        if "attune is ready" in line:
            break
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert "stopping" in err


def test_run_refuses_an_enabled_adapter_without_its_token(write_config: ConfigWriter) -> None:
    env_less = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(write_config("[telegram]\nenabled = true")),
        ],
        cwd=ROOT,
        env=env_less,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in run.stderr
