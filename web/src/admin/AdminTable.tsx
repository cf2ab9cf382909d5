import type { ReactNode, TableHTMLAttributes } from "react";

/**
 * A dashboard table: its header row from `columns`, its rows as children, in a box that scrolls
 * sideways on a narrow screen instead of widening the page.
 */
export function AdminTable({ columns, children, ...rest }: { columns: ReactNode[]; children: ReactNode } & TableHTMLAttributes<HTMLTableElement>) {
  return (
    <div className="table-scroll">
      <table className="admin-table" {...rest}>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
