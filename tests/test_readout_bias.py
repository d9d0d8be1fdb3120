"""Issue 13: asymmetric readout errors bias <Z> towards +1; mitigation undoes it."""

import numpy as np
import pytest

from qdr_course.retina import device_simulator, mitigate_readout, readout_calibration


def test_mitigation_inverts_the_readout_line():
    cal = np.array([[0.02, 0.06], [0.01, 0.03]])
    z = np.array([[0.5, -0.2], [0.0, 1.0]])
    e0, e1 = cal[:, 0], cal[:, 1]
    measured = (1 - e0 - e1) * z + (e1 - e0)
    assert np.allclose(mitigate_readout(measured, cal), z)
    assert mitigate_readout(np.zeros(2), cal)[0] < 0  # a measured 0 was truly below 0
    with pytest.raises(ValueError, match="calibration must be \\(n, 2\\)"):
        mitigate_readout(z, cal[:1])
    with pytest.raises(ValueError, match="no information"):
        mitigate_readout(z, [[0.6, 0.5], [0.0, 0.0]])


def _estimators_simulator():
    """What ``device_estimator`` (lesson 03, ``on_device``, the CLI) runs a fake device on."""
    from qdr_course.quantum.backends import device_estimator, fake_device

    return device_estimator(fake_device("FakeManilaV2")).backend


@pytest.mark.parametrize("simulator", [lambda: device_simulator("FakeManilaV2"),
                                       _estimators_simulator],
                         ids=["device_simulator", "device_estimator"])
def test_fake_device_reads_one_as_zero_more_often(simulator):
    """One home for a fake device's noise: both ways keep its asymmetric readout errors."""
    from qdr_course.quantum.backends import fake_device

    sim = simulator()
    cal = readout_calibration(sim, [0, 1, 2], shots=4000, seed=1)
    assert np.all(cal[:, 1] > cal[:, 0])  # P(0|1) > P(1|0): <Z> pushed towards +1
    props = fake_device("FakeManilaV2").properties()
    nominal = [[props.qubit_property(q)[f"prob_meas{1 - b}_prep{b}"][0] for b in (0, 1)]
               for q in range(3)]
    assert np.allclose(cal, nominal, atol=0.01)  # symmetric errors: 0.017-0.03 away
    with pytest.raises(ValueError, match="distinct device qubits"):
        readout_calibration(sim, [0, 0])
