"""The station at the door: vision, screening, occupancy, journal, uplink and the kiosk screen."""
