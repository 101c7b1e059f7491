"""Writes the tiny MAT-file fixtures of test/xdata/mat.test.ts with scipy into a folder:

    python3 scripts/xdata-fixtures.py <out-dir>

The tests run it into a temporary folder (test/helpers/mat-fixtures.ts); nothing is committed.
Each file holds the same variables; the expected values are repeated in the test.
"""
import sys
import numpy as np
import scipy.io as sio



def variables():
    return {
        # 2 x 3 double, column-major in the file: [1, 4, 2, 5, 3, 6.5]
        "d": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]),
        # 3 x 2 uint16
        "u16": np.array([[1, 65535], [2, 300], [3, 4]], dtype=np.uint16),
        "s32": np.array([[-1.5, 2.25]], dtype=np.float32),
        "i8": np.array([[-128, 127]], dtype=np.int8),
        "txt": "hello mat",
        "flag": np.array([[True, False, True]]),
        "z": np.array([[1 + 2j, -3.5j]]),
        # struct with a nested struct, a string and a row vector
        "st": {"a": 7.0, "name": "disc", "inner": {"v": np.array([[0.5, 1.5, 2.5]])}},
        # 1 x 3 cell: a double, a string, a uint8 vector
        "c": np.array([[3.0, "x", np.array([[9, 8]], dtype=np.uint8)]], dtype=object),
        "empty": np.zeros((0, 0)),
    }


def main():
    out = sys.argv[1]
    v = variables()
    sio.savemat(f"{out}/v5-plain.mat", v, do_compression=False, oned_as="row")
    sio.savemat(f"{out}/v7-compressed.mat", v, do_compression=True, oned_as="row")


if __name__ == "__main__":
    main()
