# jan/10/2024 12:00:00 by RouterOS 6.49.18
