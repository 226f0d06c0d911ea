"""FHIR R4 in and out: pure mappings between cases, assessments and FHIR resources."""
