"""fusionwatch: explained triage and care pathway for suspected nonunion after spinal fusion."""

__version__ = "0.1.0"
