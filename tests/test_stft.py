import numpy as np
import pytest

from spectral_enhance.dsp.stft import StftConfig, istft, num_frames, power, spectrum, stft


def test_paper_geometry():
    """100,000 samples unpadded: 400 frames x 512 bins, real and imaginary stacked."""
    x = np.random.default_rng(0).standard_normal(100_000)
    spec = stft(x, pad=False)
    assert spec.shape == (2, 400, 512)
    assert num_frames(100_000, pad=False) == 400


def test_matches_a_direct_dft_of_one_frame():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(3000)
    spec = stft(x, pad=False)
    n = np.arange(1024)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / 1024)
    frame = x[248 * 3 : 248 * 3 + 1023] * window[:1023]
    k = np.arange(512)[:, None]
    direct = (frame * np.exp(-2j * np.pi * k * np.arange(1023) / 1023)).sum(axis=1)
    np.testing.assert_allclose(spec[0, 3] + 1j * spec[1, 3], direct, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("length", [1, 247, 1023, 1024, 5000, 100_000, 100_001])
def test_round_trip_is_exact_edges_included(length):
    x = np.random.default_rng(length).standard_normal((2, length)).astype(np.float32)
    y = istft(stft(x), length)
    assert y.shape == x.shape
    error = np.max(np.abs(x - y))
    snr = 10 * np.log10(np.sum(x**2) / max(np.sum((x - y) ** 2), 1e-30))
    assert snr > 100, (snr, error)
    assert np.abs(x[:, :300] - y[:, :300]).max() < 1e-5  # first samples too
    assert np.abs(x[:, -300:] - y[:, -300:]).max() < 1e-5  # and the last


def test_frames_count_matches_stft():
    for length in (1, 500, 99_999, 220_500):
        assert stft(np.zeros(length)).shape[-2] == num_frames(length)


def test_too_few_frames_for_length_is_an_error():
    with pytest.raises(ValueError):
        istft(stft(np.zeros(1000)), 50_000)


def test_config_round_trips_as_dict():
    config = StftConfig(hop_length=128)
    assert StftConfig(**config.to_dict()) == config


def test_the_complex_spectrum_is_the_stacked_one_and_inverts_alike():
    """`spectrum` is what `stft` stacks; `istft` and `power` take either layout and agree."""
    config = StftConfig(2048, 1024, 2048)
    x = np.random.default_rng(3).standard_normal((2, 20_000)).astype(np.float32)
    complex_spec, stacked_spec = spectrum(x, config), stft(x, config)
    assert complex_spec.dtype == np.complex64 and complex_spec.shape == (2, 21, 1025)
    np.testing.assert_array_equal(complex_spec.real, stacked_spec[:, 0])
    np.testing.assert_array_equal(complex_spec.imag, stacked_spec[:, 1])
    np.testing.assert_allclose(power(complex_spec), np.abs(complex_spec) ** 2, rtol=1e-5)
    np.testing.assert_allclose(power(complex_spec), power(stacked_spec), rtol=1e-6)
    back = istft(complex_spec, x.shape[-1], config)
    np.testing.assert_allclose(back, x, atol=1e-5)
    np.testing.assert_array_equal(back, istft(stacked_spec, x.shape[-1], config))
    np.testing.assert_array_equal(complex_spec, spectrum(x, config))  # its input kept


def test_a_strided_view_is_analysed_as_its_copy():
    """The enhancer hands `spectrum` its segment transposed, a view: the padding copies it in."""
    config = StftConfig(2048, 1024, 2048)
    samples = np.random.default_rng(5).standard_normal((20_000, 2)).astype(np.float32)
    view = samples.T
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(spectrum(view, config), spectrum(view.copy(), config))


def test_frames_from_the_kth_give_the_samples_from_k_hops_on():
    """The enhancer synthesises only the frames that make a segment's middle: the inverse of
    frames ``k`` on is the signal from ``k`` hops on, for as many samples as those frames cover
    with all their neighbours (the samples the same frames overlap-add to in one pass)."""
    config = StftConfig(2048, 1024, 2048)
    x = np.random.default_rng(5).standard_normal((2, 40_000)).astype(np.float32)
    spec = spectrum(x, config)
    whole = istft(spec, x.shape[-1], config)
    first, count = 7, 20
    part = istft(spec[:, first : first + count], (count - 1) * 1024, config)
    np.testing.assert_array_equal(part, whole[:, first * 1024 : (first + count - 1) * 1024])
    with pytest.raises(ValueError):  # one sample more lacks the frame after the last
        istft(spec[:, first : first + count], (count - 1) * 1024 + 1, config)
