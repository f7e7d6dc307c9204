"""Places: GPS position and time zone from photo metadata, offline reverse geocoding, and album places."""
