"""Precision chosen by the machine (training/machine.py) and the machine info every timing carries."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core.training import machine
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cpu(monkeypatch, tmp_path):
    """Pretend to be a CPU: cpu("AVX2") or cpu("AVX512", native=True, fp32=..., bf16_cl=...): probes return those."""
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path))
    state = {"probes": 0, "speeds": {}}

    def fake_probe(config, precisions=("fp32", "bf16")):
        state["probes"] += 1
        return {k: v for k, v in state["speeds"].items() if k.split("+")[0] in precisions}

    def choose(capability: str, native: bool = False, **speeds):
        monkeypatch.setattr(machine, "cpu_capability", lambda: capability)
        monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512_bf16"} if native else {"avx2"})
        state["speeds"] = {key.replace("_cl", "+channels_last"): value for key, value in speeds.items()}
    monkeypatch.setattr(machine, "probe", fake_probe)
    choose.state = state
    return choose


def test_our_recipes_ask_for_auto_and_the_write_ups_keep_fp32():
    for name in ("sprint", "best_small"):
        assert default_config(name).precision == "auto"
    assert default_config("writeup002").precision == "fp32"


def test_a_cpu_without_native_bf16_gets_fp32_and_says_why(cpu):
    cpu("AVX2", fp32=10.0, fp32_cl=12.0)
    chosen = machine.resolve(default_config("sprint", device="cpu"))
    assert chosen.precision == "fp32" and chosen.channels_last
    assert "no native bf16" in chosen.extra["precision_reason"] and "AVX2" in chosen.extra["precision_reason"]
    assert machine.resolve(chosen) is chosen  # settled once
    cpu("AVX2", fp32=12.0, fp32_cl=10.0)  # channels_last measured slower: off
    assert not machine.resolve(default_config("sprint", device="cpu")).channels_last


def test_native_bf16_is_used_only_where_the_probe_measures_it_faster(cpu):
    cpu("AVX512", native=True, fp32=10.0, fp32_cl=10.0, bf16=15.0, bf16_cl=16.0)
    faster = machine.resolve(default_config("sprint", device="cpu"))
    assert (faster.precision, faster.channels_last) == ("bf16", True)
    assert "1.60× fp32" in faster.extra["precision_reason"]
    cpu("AVX512", native=True, fp32=10.0, fp32_cl=10.0, bf16=10.2, bf16_cl=10.3)  # within the 5% noise margin
    assert machine.resolve(default_config("sprint", device="cpu")).precision == "fp32"


def test_an_explicit_bf16_is_kept_with_a_warning_and_fp32_is_untouched(cpu):
    cpu("AVX2")
    slow = machine.resolve(default_config("sprint", device="cpu", precision="bf16"))
    assert slow.precision == "bf16" and "warning" in slow.extra["precision_reason"]
    plain = default_config("writeup002", device="cpu")
    assert machine.resolve(plain) is plain and cpu.state["probes"] == 0


def test_the_real_probe_is_cached_per_machine(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path))
    config = default_config("frontier", device="cpu")
    first = machine.probe(config, ("fp32",))
    assert set(first) == {"fp32"} and first["fp32"] > 0  # frontier's recipe keeps contiguous memory
    cached = json.loads((tmp_path / "probes.json").read_text())
    assert list(cached.values()) == [first]
    assert machine.probe(config, ("fp32",)) == first  # read back, not measured again


def test_machine_info_names_the_cpu_and_an_emulated_isa():
    info = machine.machine_info(precision="fp32")
    assert {"cpu_model", "cpu_capability", "emulated", "cpu_count", "torch_threads", "torch_version",
            "load_average", "precision"} <= set(info)
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from mnist_core.training.machine import machine_info; print(json.dumps(machine_info()))",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    emulated = json.loads(shown.stdout)
    assert emulated["cpu_capability"] == "AVX2" and emulated["emulated"] is True


@pytest.mark.parametrize("damage", [b"", b"null", b"[]", b'{"k": null}', b'{"k": {"fp32": "fast"}}', b"\xff\xfe{",
                                    b'{"k": {"fp32": NaN}}', b'{"k": {"fp32": 1.0}', "wrong entry"])
def test_a_damaged_probe_cache_is_measured_again_and_replaced(damage, monkeypatch, tmp_path, caplog):
    """Whatever is in probes.json, the probe reads it as a miss (one logged line), measures again and
    writes a good file; a wrong entry for this network (a setting missing) is measured again too."""
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path))
    measured = []
    monkeypatch.setattr(machine, "_steps_per_second", lambda config, p, cl: measured.append(p) or 10.0)
    config = default_config("frontier", device="cpu")
    key = machine.probe_key(config) + "|fp32"
    cache = tmp_path / "probes.json"
    cache.write_bytes(json.dumps({key: {"bf16": 5.0}}).encode() if damage == "wrong entry" else damage)
    with caplog.at_level("WARNING", logger="mnist_core.training.disk_cache"):
        assert machine.probe(config, ("fp32",)) == {"fp32": 10.0} and measured == ["fp32"]
    lines = [record.getMessage() for record in caplog.records if record.name == "mnist_core.training.disk_cache"]
    assert lines == [] if damage == "wrong entry" else len(lines) == 1 and "probes.json is damaged" in lines[0]
    assert json.loads(cache.read_text())[key] == {"fp32": 10.0}
    assert machine.probe(config, ("fp32",)) == {"fp32": 10.0} and measured == ["fp32"]  # read back now
