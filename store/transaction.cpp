#include "store/transaction.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "store/database.hpp"

namespace bbsync::store {

transaction::transaction(database& db, transaction_mode mode) : db_(&db)
{
    db_->execute(mode == transaction_mode::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

void transaction::commit()
{
    if (committed_)
    {
        throw std::logic_error("transaction::commit() called twice; the transaction is already committed");
    }
    db_->execute("COMMIT");
    committed_ = true;
}

transaction::~transaction()
{
    // SQLite already rolled back when the connection is in autocommit mode again, e.g. after
    // SQLITE_FULL or an interrupted statement.
    if (committed_ || sqlite3_get_autocommit(db_->native_handle()) != 0)
    {
        return;
    }
    try
    {
        db_->execute("ROLLBACK");
    }
    catch (...)
    {
        // Nothing to do: a failed ROLLBACK leaves the transaction to be rolled back when the
        // connection closes.
    }
}

}  // namespace bbsync::store
