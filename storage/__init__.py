# Every session of every engine moves a trust's directory version with each change
# to its directory (storage/directory_stamp.py): registered here, on first use of
# the store, so no session can be made without it.
import storage.directory_stamp  # noqa: F401
