"""Threat intelligence: known vulnerabilities of dependencies from OSV advisories
(https://ossf.github.io/osv-schema/), matched offline against the pinned dependencies the
repository scanner reads (`custos.repo.model.Dependency`).

Layout: `osv` (advisories as frozen data: parse a record, read a file, stream a directory tree
or OSV's per-ecosystem `all.zip`), `cvss` (the CVSS v3 base score of a vector, and its rating
as a Custos severity), `versions` (PEP 440 and SemVer ordering, the schema's range evaluation,
fixed versions), `index` (advisories by package, compiled once, matched against many
dependencies), `store` (the imported exports on disk, which `custos intel` manages).
Everything but `osv.read`, `osv.iter_archive` and `store` is pure.
"""
