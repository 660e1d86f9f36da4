# jan/10/2026 12:00:00 by RouterOS 7.24.2
