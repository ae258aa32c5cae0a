export interface CategoriesTable {
  id: string;
  name: string;
  description: string | null;
  date: string;
  update_date: string;
}

export interface CategoryTables {
  categories: CategoriesTable;
}

declare module '../store/schema.js' {
  interface Database extends CategoryTables {}
}
