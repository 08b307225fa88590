"""Known vulnerabilities tracked across scans: the lifecycle, the SLA, exposure (docs/secdev.md)."""
