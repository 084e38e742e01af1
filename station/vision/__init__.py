"""Vision: what the station's camera sees (faces and their masks, people crossing the door)."""
