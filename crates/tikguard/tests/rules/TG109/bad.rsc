# 2025-01-10 12:00:00 by RouterOS 7.18.2
# www-ssl is disabled by default: this export turns it on without a certificate.
/ip service set www-ssl address=10.0.0.0/8 disabled=no
