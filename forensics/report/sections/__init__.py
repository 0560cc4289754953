"""The dossier's sections, each built from the run's report inputs into its typed part of the
Dossier (forensics/report/context.py), one module per section in document order: cover,
judgments (the key judgments), scope, clusters (the findings), methodology (with the
appendix's catalogue and sources), limitations, glossary, appendix (reproducibility).
The charts are report/figures.py, the Method validation section report/validation.py;
report/dossier.py puts them together."""
