"""Infrared thermometers over serial: one pure decoder per wire protocol, a reader, the registry."""
