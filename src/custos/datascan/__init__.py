"""Data discovery: personal data and secrets in datasets (CSV/TSV, JSON Lines, Parquet, plain
text), found per column and in free text with validators rather than bare patterns, sampled
from a stream, and a suggested classification per column. Nothing here writes to the data.

Layout: `validators` (checksums and rules of each identifier), `recognizers` (which values of a
column are of which type, and when a column as a whole counts), `freetext` (the same in running
text), `classify` (levels and findings), `mask`, `sniff` and `readers` (formats by content,
compressed or not), `sample` (reservoir sampling), and `scan` (the pipeline).
"""
