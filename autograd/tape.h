// tape.h — looking at the tape: the nodes behind a result in recorded order, as text or as
// a Graphviz DOT graph (tutorial chapter 2). backward() walks this same list in reverse.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/node.h"

namespace dl::ag {

/// Every node that @p root depends on, in the order the ops ran (oldest first).
std::vector<std::shared_ptr<Node>> tape_of(const Variable& root);

/// One line per node: "#<seq> <Name>  inputs [shapes] -> [shape]", oldest first.
std::string format_tape(const Variable& root);

/// The graph behind @p root in Graphviz DOT: op nodes as boxes, leaves as ellipses.
/// Render with `dot -Tsvg graph.dot -o graph.svg`.
std::string to_dot(const Variable& root);

}  // namespace dl::ag
