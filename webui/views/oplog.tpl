% rebase('base.tpl', title=_('Operation log'), back_path='/oplog')
<h1>{{_('Operation log')}}</h1>
<table id="oplog">
<thead><tr><th>{{_('Time')}}</th><th>{{_('Who')}}</th><th>{{_('From')}}</th><th>{{_('Action')}}</th><th>{{_('Target')}}</th><th>{{_('Before')}}</th><th>{{_('After')}}</th></tr></thead>
<tbody>
% for r in rows:
<tr><td>{{local_time(r.at)}}</td><td>{{r.actor}}</td><td>{{r.address}}</td><td>{{r.action}}</td><td>{{r.target}}</td><td><code>{{r.before or ''}}</code></td><td><code>{{r.after or ''}}</code></td></tr>
% end
</tbody>
</table>
<p class="pager">
% if page > 1:
<a href="/oplog?page={{page - 1}}">« {{_('Newer')}}</a>
% end
% if more:
<a href="/oplog?page={{page + 1}}">{{_('Older')}} »</a>
% end
</p>
