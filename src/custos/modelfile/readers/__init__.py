"""Byte-level readers under the container and format scanners: views of a stream (or of
several pieces of one), and the zip structures and codecs. No findings of their own.
"""
