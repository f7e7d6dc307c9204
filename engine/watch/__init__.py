"""The watch room: following the library's folders live and applying what changed as batches."""
