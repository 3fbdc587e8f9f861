// tape.cpp — collecting, printing and drawing the nodes behind a result (tutorial chapter 2).
#include "autograd/tape.h"

#include <algorithm>
#include <sstream>
#include <unordered_set>

namespace dl::ag {

std::vector<std::shared_ptr<Node>> tape_of(const Variable& root) {
  std::vector<std::shared_ptr<Node>> nodes;
  if (!root.defined() || !root.grad_fn()) return nodes;
  std::unordered_set<const Node*> seen;
  std::vector<std::shared_ptr<Node>> stack{root.grad_fn()};
  while (!stack.empty()) {  // iterative DFS: deep ResNets would overflow a recursive one
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(n.get()).second) continue;
    for (const Edge& e : n->edges)
      if (e.node) stack.push_back(e.node);
    nodes.push_back(std::move(n));
  }
  // Sequence numbers are recording order, so sorting restores the tape.
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a->seq < b->seq; });
  return nodes;
}

std::string format_tape(const Variable& root) {
  std::ostringstream os;
  for (const auto& n : tape_of(root)) {
    os << '#' << n->seq << ' ' << n->name << "  inputs";
    for (const Shape& s : n->input_shapes) os << ' ' << shape_str(s);
    os << " -> " << shape_str(n->output_shape) << (n->released() ? "  (freed)" : "") << '\n';
  }
  return os.str();
}

std::string to_dot(const Variable& root) {
  std::ostringstream os;
  os << "digraph autograd {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
  std::unordered_set<const VariableImpl*> leaves;
  for (const auto& n : tape_of(root)) {
    os << "  n" << n->seq << " [shape=box, label=\"" << n->name << "\\n"
       << shape_str(n->output_shape) << "\"];\n";
    for (const Edge& e : n->edges) {
      if (e.node) {
        os << "  n" << e.node->seq << " -> n" << n->seq << ";\n";
      } else if (e.leaf) {
        const void* id = e.leaf.get();
        if (leaves.insert(e.leaf.get()).second)
          os << "  \"leaf" << id << "\" [shape=ellipse, label=\""
             << (e.leaf->name.empty() ? "leaf" : e.leaf->name) << "\\n"
             << shape_str(e.leaf->data.shape()) << "\"];\n";
        os << "  \"leaf" << id << "\" -> n" << n->seq << ";\n";
      }
    }
  }
  os << "}\n";
  return os.str();
}

}  // namespace dl::ag
