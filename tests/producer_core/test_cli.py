"""``python -m producer_core``: properties, presets, summaries, JSON, the sweep's shape."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from producer_core import cli


def test_properties_file_then_x_overrides(tmp_path):
    f = tmp_path / "p.properties"
    f.write_text("# tuned\nbatch.size=32768\nlinger.ms : 10\n\ncompression.type=lz4\n")
    props = cli.parse_props(["linger.ms=20", "acks=1"], str(f))
    assert props == {"batch.size": "32768", "linger.ms": "20", "compression.type": "lz4",
                     "acks": "1"}


@pytest.mark.parametrize("items, message", [
    (["linger.ms"], "expected key=value"),
    (["=5"], "expected key=value"),
])
def test_bad_x_items_are_named(items, message):
    with pytest.raises(cli.CliError, match=message):
        cli.parse_props(items, None)


def test_missing_properties_file_is_named(tmp_path):
    with pytest.raises(cli.CliError, match="cannot read"):
        cli.parse_props([], str(tmp_path / "nope.properties"))


def test_scenario_from_a_preset_with_overrides():
    args = cli.build_parser().parse_args(
        ["--preset", "kafka-defaults", "-X", "linger.ms=50", "--rate", "100", "--seed", "9",
         "--partitions", "3", "--fault", '{"at_ms": 10, "op": "stop_broker", "broker": 1}'])
    sc = cli.scenario_from_args(args)
    assert sc.config["linger.ms"] == "50"
    assert sc.workload[0].rate == 100 and sc.seed == 9
    assert sc.cluster["topics"]["orders"] == 3
    assert sc.faults == [{"at_ms": 10, "op": "stop_broker", "broker": 1}]


def test_run_prints_a_summary_and_kafka_metrics(capsys):
    assert cli.main(["--records", "3000", "-X", "linger.ms=2", "--topic", "t",
                     "--partitions", "2"]) == 0
    out = capsys.readouterr().out
    assert "records acked    : 3,000" in out
    assert "producer-metrics" in out and "record-send-total" in out
    assert "linger.ms" in out


def test_json_output_is_machine_readable(capsys):
    assert cli.main(["--records", "2000", "--json", "--seed", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["records_acked"] == 2000
    assert data["metrics"]["record-send-total"] == 2000
    assert data["scenario"]["seed"] == 3
    assert data["app"]["send_calls"] == 2000


def test_same_seed_same_numbers(capsys):
    runs = []
    for _ in range(2):
        cli.main(["--records", "1500", "--json", "--seed", "4", "--keys", "uniform:9"])
        d = json.loads(capsys.readouterr().out)
        d.pop("wall_s")
        d.pop("engine_records_per_wall_s")
        runs.append(d)
    assert runs[0] == runs[1]


def test_bad_config_exits_2_naming_the_key(capsys):
    assert cli.main(["--records", "10", "-X", "batch.size=-1"]) == 2
    err = capsys.readouterr().err
    assert "batch.size" in err and err.startswith("error:")


def test_unknown_preset_lists_the_known_ones(capsys):
    assert cli.main(["--preset", "nope"]) == 2
    assert "kafka-defaults" in capsys.readouterr().err


def test_list_presets(capsys):
    assert cli.main(["--list-presets"]) == 0
    out = capsys.readouterr().out
    assert "incident" in out and "incident-fixed" in out


def test_preset_run_with_duration(capsys):
    assert cli.main(["--preset", "low-latency", "--duration-ms", "500", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["virtual_ms"] == 500
    assert data["app"]["rate_target"] == 2000


def test_progress_bar_goes_to_stderr(capsys):
    assert cli.main(["--records", "1000", "--progress"]) == 0
    captured = capsys.readouterr()
    assert "%" in captured.err and "[" in captured.err
    assert "%" not in captured.out.split("producer-metrics")[0].replace("%)", "")


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "producer_core", "--records", "500", "--json"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["records_acked"] == 500


def test_sweep_shape_throughput_rises_then_flattens_and_linger_costs_latency():
    cells = cli.run_sweep(records=20_000, jobs=1, batch_kb=(4, 16, 64, 128),
                          linger_ms=(0, 50))
    by = {(c["batch_kb"], c["linger_ms"]): c for c in cells}
    tput = {kb: by[(kb, 0)]["throughput"] for kb in (4, 16, 64, 128)}
    assert tput[16] > 2 * tput[4]
    assert tput[64] > 1.5 * tput[16]
    assert tput[128] < 1.15 * tput[64]  # past 64 KB the curve flattens
    for kb in (16, 64, 128):
        # at light load batches close on linger.ms: latency grows with it
        assert by[(kb, 50)]["light_latency_avg_ms"] > by[(kb, 0)]["light_latency_avg_ms"] + 20
    text = cli.format_sweep(cells)
    assert "Throughput (records/s, flat out)" in text and "128 KB" in text


def test_calibrate_command_prints_the_constants(capsys):
    assert cli.calibrate_main(["--calibrate"]) == 0
    out = capsys.readouterr().out
    assert "CODEC_CPU_NS_PER_BYTE" in out and '"zstd":' in out
    assert cli.calibrate_main([]) == 2
