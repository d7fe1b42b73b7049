"""course_utils.environment.import_tensorflow: TensorFlow's C++ start-up lines are prevented at the
source (issue 16, section 3), and anything else TensorFlow writes to stderr still shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from course_utils import environment

NOISE = re.compile(r"WARNING: All log messages before absl|^[IWEF]\d{4} \d\d:\d\d:", re.MULTILINE)


def test_a_fresh_process_importing_through_it_prints_no_start_up_lines():
    code = (
        "from course_utils.environment import import_tensorflow\ntf, keras = import_tensorflow()\nprint(tf.__version__)"
    )
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*\n", result.stdout)
    assert not NOISE.search(result.stderr), result.stderr


def test_lines_that_are_not_start_up_noise_still_reach_stderr(monkeypatch, capfd):
    import tensorflow as tf

    def probe(kind):
        os.write(2, b"I0000 00:00:1795956376.385917   18358 cudart_stub.cc:31] Could not find cuda drivers.\n")
        os.write(2, b"a real problem the learner must see\n")
        return []

    monkeypatch.setattr(tf.config, "list_physical_devices", probe)
    capfd.readouterr()  # drop what importing TensorFlow in this test printed
    environment.import_tensorflow()
    err = capfd.readouterr().err
    assert "a real problem the learner must see" in err
    assert "cudart_stub" not in err
