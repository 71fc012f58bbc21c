"""Scheduling views: staff calendar (`staff.py`) and the patient booking portal (`portal.py`)."""
