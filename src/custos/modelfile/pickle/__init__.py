"""The pickle machine: the opcode reader and its buffered input, the symbolic Unpickler (core
state, containers, memo, calls), the evaluation of what a call would do, and the static walk
that decides whether bytes are a pickle at all.
"""
