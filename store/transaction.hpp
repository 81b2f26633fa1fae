#ifndef BBSYNC_STORE_TRANSACTION_HPP
#define BBSYNC_STORE_TRANSACTION_HPP

namespace bbsync::store {

class database;

// How a transaction takes its locks.
enum class transaction_mode
{
    // BEGIN DEFERRED: locks are taken by the first read or write. Suits read-only work.
    deferred,

    // BEGIN IMMEDIATE: the write lock is taken at BEGIN, waiting up to the busy timeout. A
    // transaction that writes should use it, because a deferred one that later tries to write
    // can fail with SQLITE_BUSY without waiting.
    immediate,
};

// A transaction guard: begins in the constructor and rolls back in the destructor unless
// commit() succeeded. Not copyable or movable. The database must outlive it.
class transaction
{
public:
    // Begins a transaction in the given mode. Throws error when BEGIN fails, e.g. with
    // SQLITE_BUSY when another connection holds the write lock past the busy timeout, or when
    // a transaction is already active on the connection.
    explicit transaction(database& db, transaction_mode mode = transaction_mode::immediate);

    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    // Commits. Throws error when COMMIT fails; the transaction is then still open and the
    // destructor rolls it back. Throws std::logic_error when called after a successful commit.
    void commit();

    // Rolls back unless committed. Errors are ignored, because a destructor that runs during
    // unwinding must not throw.
    ~transaction();

private:
    database* db_;
    bool committed_ = false;
};

}  // namespace bbsync::store

#endif
