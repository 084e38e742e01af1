"""Device I/O: serial ports, thermometers, cameras, door counters and their emulators.

This package imports nothing else of Gerbang's: the station builds on it, never the other way round.
"""
