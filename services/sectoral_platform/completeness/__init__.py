"""Data set completeness: `/api/completeDataSetRegistrations` and `completeDate`."""
