"""The live lab: one LabSession (a paced producer_core.Simulation) per learner or room,
its WebSocket protocol and pages."""
