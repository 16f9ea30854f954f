#!/bin/sh
# Write the .expr of a network with DEPTH tanh hidden layers of WIDTH
# units each, a sigmoid output and the squared error, to standard output:
#
#     examples/deep_mlp/make_model.sh 3 8 > examples/deep_mlp/mlp_3x8.expr
#
# The language has fixed shapes, so each architecture is its own model.
# Every mlp_*.expr in this folder is compiled and linked into the program
# (make examples); add its name to the table in main.c to train it.
set -eu
if [ $# -ne 2 ] || [ "$1" -lt 1 ] || [ "$2" -lt 1 ]; then
  echo "usage: make_model.sh DEPTH WIDTH" >&2
  exit 2
fi
depth=$1 width=$2
echo "# A classifier of points of the plane: $depth tanh hidden layer(s) of $width,"
echo "# a sigmoid output, the squared error (MSE of one output).  Made by"
echo "# make_model.sh $depth $width.  Weights are glorot (the default for"
echo "# matrices), biases zero (the default for vectors), as PyTorch's Linear."
echo "input x[2]              # a point of the plane"
echo "input y[1]              # its label, 0 or 1"
in=2
l=1
while [ $l -le "$depth" ]; do
  echo "param W$l[$width][$in], b$l[$width]"
  in=$width
  l=$((l + 1))
done
echo "param W$l[1][$in], b$l[1]"
echo
echo "def layer(W, b, x) = tanh(W @ x + b)"
prev=x
l=1
while [ $l -le "$depth" ]; do
  echo "h$l = layer(W$l, b$l, $prev)"
  prev=h$l
  l=$((l + 1))
done
echo
echo "output yhat = sigmoid(W$l @ $prev + b$l)"
echo "loss = mse(yhat, y)"
