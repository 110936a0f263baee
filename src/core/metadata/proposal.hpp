// What a node proposes to the metadata Raft log. Any node may administer the
// cluster: it decides a command on its own replica of the catalog, wraps it in
// a Proposal naming the log index that replica had applied, and proposes it.
// Every node applies the committed entry (command_apply.hpp), and a versioned
// command decided on a catalog that has changed since is refused everywhere
// alike, so two nodes deciding at once can never both act on what they saw.
//
// Encoding (all integers little-endian), in the shared frame of codec_frame.hpp:
//   magic "PHMP" | format version u8 | id u64 | origin i32 | based_on i64 |
//   command length u32 | command (an EncodeCommand frame) | CRC-32C u32
// The command keeps its own encoding, so the glue can store or show it as is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

inline constexpr uint8_t kProposalFormatVersion = 1;

// What a node proposes to the metadata Raft log: one command with who proposed it and the state it was decided on.
struct Proposal {
  uint64_t id = 0;       // random, unique per proposal; lets the proposing node recognise its entry when applied
  NodeId origin = 0;     // the proposing node (0: unknown yet, e.g. the very first CreateCluster may use 1)
  int64_t based_on = 0;  // the proposer's applied log index when it decided; 0 = no check
  Command command;
  bool operator==(const Proposal&) const = default;
};

std::string EncodeProposal(const Proposal& proposal);

// Throws phantom::Error (XX001) on bad bytes: "metadata proposal is
// corrupted: ..." for the envelope, the command codec's message for the
// command inside it.
Proposal DecodeProposal(std::string_view bytes);

// Whether a command is versioned: everything but SetNodeState. A versioned
// command is checked against the proposal's based_on and advances the
// catalog's metadata_version. SetNodeState is not: the failure detector's
// changes carry their own check (the state they were decided on), and a node
// turning suspect must not make a concurrent DDL statement retry.
bool IsVersioned(const Command& command);

}  // namespace phantom::metadata
