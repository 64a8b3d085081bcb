"""`alice-ops discover`: find out what an Alice deployment really serves and fit a config to it.

`explore` asks (I/O, concurrent, each request under a deadline) and returns a
`Discovery`; `analysis` draws the conclusions (pure); `report` prints them beside what
the operations guide asks for; `fitted` writes the commented config. The candidate
paths live in `candidates`, the JSON readings in `shape`.
"""
