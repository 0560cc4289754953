"""The dossier's sections, each built from the run's report inputs into its typed part of the
Dossier (forensics/report/context.py): the cluster findings, the key judgments."""
