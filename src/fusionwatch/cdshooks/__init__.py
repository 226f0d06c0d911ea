"""CDS Hooks 2.0.1: a patient-view service that EHRs call, built on the FHIR adapter."""
