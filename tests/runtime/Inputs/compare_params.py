"""compare_params.py A.txt B.txt TOL: the largest |a - b| / max(1, |b|) over
two files of params (one a line); says whether it is within TOL."""
import sys

a = [float(v) for v in open(sys.argv[1])]
b = [float(v) for v in open(sys.argv[2])]
tol = float(sys.argv[3])
worst = max(abs(x - y) / max(1.0, abs(y)) for x, y in zip(a, b)) if a and len(a) == len(b) else float('inf')
print('%d params, within %g: %s' % (len(a), tol, 'yes' if worst <= tol else 'NO (%.3g)' % worst))
