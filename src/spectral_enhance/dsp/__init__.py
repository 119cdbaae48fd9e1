"""The signal processing every stage shares: the STFT, band replication, the low-pass meter."""
