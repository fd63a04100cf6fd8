// Where zone drains are kept (zone_drain.h): the registry store's side.
// The file registry keeps them in a JSON file of their own beside it
// (`--state-file`, default `<registry file>.state.json`), written whole
// through a rename, so a control plane killed mid-write leaves the old or
// the new state, never half of one. One writer: the one control plane on
// that file. The etcd registry keeps them in one key, `PREFIX/state/drains`;
// of several replicas on one etcd only the holder of the key
// `PREFIX/state/leader` (put with a lease, kept alive while the replica
// lives) steps drains and takes drain commands; the others follow the key
// through the registry's watch. Main thread only.
#pragma once

#include <memory>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "control/zone_drain.h"

namespace sluice::control {

class DrainStore {
 public:
  virtual ~DrainStore() = default;
  virtual std::string describe() const = 0;
  // The drains saved; no state yet is an empty set. False with `error`
  // when the state is there and unreadable (the control plane refuses to
  // start: serving the registry's weights would undo a drain).
  virtual bool load(Drains& out, std::string& error) = 0;
  // Writes every drain; "" when written, else why not.
  virtual asio::awaitable<std::string> save(const Drains& drains) = 0;
  // Whether this replica may write (the file store: always).
  virtual bool leader() const { return true; }
  // Who may ("" when unknown), for the REST API's answer to a follower.
  virtual std::string leaderId() const { return ""; }
  // Starts what the store must keep doing (the etcd lease).
  virtual void run() {}
};

class FileDrainStore final : public DrainStore {
 public:
  explicit FileDrainStore(std::string path) : path_(std::move(path)) {}
  std::string describe() const override { return "file:" + path_; }
  bool load(Drains& out, std::string& error) override;
  asio::awaitable<std::string> save(const Drains& drains) override;
  // The write itself (tests call it directly).
  std::string write(const Drains& drains);

 private:
  std::string path_;
};

// `etcd://...` as the registry's: its drain store, or null with `error`.
// `replica` names this process in the leader key.
std::unique_ptr<DrainStore> makeEtcdDrainStore(asio::io_context& io, const std::string& spec, std::string replica,
                                               std::string& error);

}  // namespace sluice::control
