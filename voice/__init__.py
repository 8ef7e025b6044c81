"""The hotline (语音服务, layer 3.7): every call a record, taken from the PBX's CTI events.

The hospital's PBX or cloud contact centre answers the hotline, plays the IVR and the recording
notice and rings an agent's extension; it posts one signed event per step to
`/voice/cti/events/` (docs/cti.md), and this app owns everything after the ring: the call record
linked to its client, the agents with their extensions and presence, the queues. Above `vip`:
what a consultant sees on the phone reads every desk's records.
"""
