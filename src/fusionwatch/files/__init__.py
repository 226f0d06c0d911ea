"""Readers for case files, score CSVs and DICOM headers, bounded in size and depth."""
