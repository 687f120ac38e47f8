"""What other stages hear from stage 1: `results_imported` is sent once a file of results is committed
(after its transaction), with the upload and its assessment, so that stage 4's indicators of that family
of works are re-measured on the new results without anyone asking."""

from django.dispatch import Signal

#: sent with `upload` (collection.Upload) and `assessment` (reference.Assessment) after the commit
results_imported = Signal()
