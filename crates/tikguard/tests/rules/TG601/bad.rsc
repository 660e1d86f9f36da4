# jan/02/2023 10:00:00 by RouterOS 6.48.6
